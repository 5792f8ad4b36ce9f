"""``--format k8s``: manifests validated against the Kubernetes 1.37 OpenAPI schema (strict: unknown
fields refused) by ``kubernetes-validate``, read back by PyYAML, and holding exactly the plan's
environment, command, cards and the startup budget from the warm-up estimate."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gaudi_vl.assembly import PlanRequest, assemble
from gaudi_vl.buckets import Strategy
from gaudi_vl.command import engine_flags, server_argv
from gaudi_vl.engines import PROFILES
from gaudi_vl.envvars import plan_env
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.exporters import format_helm_values, format_k8s, startup_seconds_high
from gaudi_vl.k8s import (
    RECIPE_CACHE_VAR,
    STARTUP_MARGIN,
    K8sOptions,
    build_manifests,
    helm_values,
    runtime_env,
    startup_budget,
)
from gaudi_vl.models import builtin_model
from gaudi_vl.plan import Plan
from gaudi_vl.settings import ServeSettings
from gaudi_vl.yamlout import to_yaml, yaml_stream

yaml = pytest.importorskip("yaml")
kv = pytest.importorskip("kubernetes_validate")

K8S_VERSION = "1.37"
GAUDI_VL = [sys.executable, "-m", "gaudi_vl"]
HPU_TARGETS = [p.name for p in PROFILES if p.hpu]


def validate_all(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        kv.validate(doc, K8S_VERSION, strict=True)


DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
IANA_SVC_NAME = re.compile(r"(?=.{1,15}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def api_server_rules(docs: list[dict[str, Any]]) -> None:
    """What the API server checks beyond the OpenAPI schema (apimachinery's name and label rules,
    core/v1 validation of extended resources, huge pages, volumes and named ports), for the fields
    these manifests use."""
    for doc in docs:
        assert DNS1123_LABEL.fullmatch(doc["metadata"]["name"])
        assert all(LABEL_VALUE.fullmatch(v) for v in doc["metadata"]["labels"].values())
    pod = by_kind(docs)["Deployment"]["spec"]["template"]["spec"]
    volumes = [v["name"] for v in pod["volumes"]]
    assert len(set(volumes)) == len(volumes) and all(DNS1123_LABEL.fullmatch(v) for v in volumes)
    for c in pod["containers"] + pod["initContainers"]:
        assert DNS1123_LABEL.fullmatch(c["name"])
        assert {m["name"] for m in c["volumeMounts"]} <= set(volumes)
    (c,) = pod["containers"]
    limits, requests = c["resources"]["limits"], c["resources"]["requests"]
    for key in ("habana.ai/gaudi", "hugepages-2Mi"):  # no overcommit: requests must equal limits
        assert requests.get(key) == limits.get(key)
    if "hugepages-2Mi" in limits:
        assert "memory" in requests  # huge pages need a memory or cpu request
    ports = {p["name"] for p in c["ports"]}
    assert all(IANA_SVC_NAME.fullmatch(p) for p in ports)
    assert all(c[p]["httpGet"]["port"] in ports for p in ("startupProbe", "readinessProbe", "livenessProbe"))
    assert all(1 <= p["containerPort"] <= 65535 for p in c["ports"])


def by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    kinds = [d["kind"] for d in docs]
    assert len(set(kinds)) == len(kinds)
    return {d["kind"]: d for d in docs}


def engine_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = by_kind(docs)["Deployment"]["spec"]["template"]["spec"]["containers"]
    return container


# ------------------------------------------------------------------ the YAML emitter

HOSTILE = [
    "", " ", "yes", "No", "ON", "off", "y", "n", "~", "null", "Null", "true", "False", "1", "-1", "0x1f",
    "0o17", "1e3", "1_000", "1:20", ".inf", "-.inf", ".NaN", "3.14", "- item", "-c", "--model", "a: b",
    "a:b", "#comment", "a #b", "'single'", '"double"', "back\\slash", "multi\nline", "trailing\n",
    "\ttab", "cr\r", "nul\0", "\x85nel", "\u2028ls", "\ufeffbom", "\ud800", "\U0001f600", "[x]", "{y}",
    "*alias", "&anchor", "!tag", "%dir", "@at", "`tick", "|", ">", "?", ",", "=", "<<", "key: [1, 2]",
    "&&", "\x7f", "\x1b[31m", "é", "日本語",
]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.sampled_from(HOSTILE),
    st.text(), st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.one_of(st.dictionaries(st.one_of(st.text(), st.sampled_from(HOSTILE)), values, max_size=6),
                     st.lists(values, max_size=6)))
def test_yaml_round_trips_through_pyyaml(doc: Any) -> None:
    assert yaml.safe_load(to_yaml(doc)) == doc


@given(docs=st.lists(st.dictionaries(st.sampled_from(HOSTILE), values, min_size=1, max_size=4), max_size=4))
def test_yaml_stream_round_trips(docs: list[dict[str, Any]]) -> None:
    assert list(yaml.safe_load_all(yaml_stream(docs, ["header", "", "k: v # not a key"]))) == docs


def test_yaml_refuses_what_it_cannot_write_exactly() -> None:
    with pytest.raises(TypeError):
        to_yaml({"x": 0.5})
    with pytest.raises(TypeError):
        to_yaml({1: "x"})
    with pytest.raises(ValueError):
        yaml_stream([{"a": 1}], ["two\nlines"])


def test_plain_strings_stay_plain_and_ambiguous_ones_are_quoted() -> None:
    text = to_yaml({"a": "vllm.entrypoints.openai.api_server", "b": "yes", "c": "8000", "d": "/health"})
    assert text.splitlines() == [
        "a: vllm.entrypoints.openai.api_server", 'b: "yes"', 'c: "8000"', "d: /health",
    ]


# ------------------------------------------------------------------ manifests for many plans

def plan_for(target: str, tp: int, lo: int, span: int, strategy: Strategy, align: bool, model: str) -> Plan:
    serve = ServeSettings(target=target, tensor_parallel_size=tp, align=align)
    plan, _ = assemble(PlanRequest(builtin_model(model), serve, min_pixels=lo, max_pixels=lo + span,
                                   strategy=strategy))
    return plan


names = st.from_regex(r"[a-z]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)
claims = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?(\.[a-z0-9]{1,5})?", fullmatch=True)
mib = st.integers(1, 2**22)
k8s_options = st.builds(
    K8sOptions,
    name=names,
    namespace=st.one_of(st.none(), names),
    image=st.sampled_from(["opea/vllm-gaudi:latest", "registry.example:5000/team/vllm@sha256:" + "a" * 64]),
    replicas=st.integers(0, 8),
    service_type=st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer"]),
    model_pvc=st.one_of(st.none(), claims),
    recipe_cache_pvc=st.one_of(st.none(), claims),
    recipe_cache_mb=st.integers(1, 65536),
    shm_mib=st.one_of(st.none(), mib),
    hugepages_mib=st.one_of(st.none(), st.just(0), mib),
    memory_mib=st.one_of(st.none(), mib),
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    target=st.sampled_from(HPU_TARGETS),
    tp=st.sampled_from([1, 2, 4, 8]),
    lo=st.integers(3136, 2_000_000),
    span=st.integers(12544, 12_000_000),
    strategy=st.sampled_from([Strategy.DEFAULT, Strategy.EXP]),
    align=st.booleans(),
    model=st.sampled_from(["qwen2.5-vl-3b", "qwen2.5-vl-7b", "qwen2.5-vl-32b", "qwen2.5-vl-72b"]),
    options=k8s_options,
)
def test_any_feasible_plan_yields_manifests_that_validate(
    target: str, tp: int, lo: int, span: int, strategy: Strategy, align: bool, model: str, options: K8sOptions
) -> None:
    try:
        plan = plan_for(target, tp, lo, span, strategy, align, model)
    except GaudiVLError:
        assume(False)  # infeasible plans (a model that does not fit, a TP the heads refuse) are refused
        raise
    high = startup_seconds_high(plan)[0]
    docs = build_manifests(plan, options, high)
    validate_all(docs)
    api_server_rules(docs)
    assert list(yaml.safe_load_all(format_k8s(plan, options))) == docs

    kinds = by_kind(docs)
    assert ("PersistentVolumeClaim" in kinds) == (options.recipe_cache_pvc is None)
    deployment, service = kinds["Deployment"], kinds["Service"]
    pod = deployment["spec"]["template"]["spec"]
    container = engine_container(docs)

    # The plan's command and environment, exactly; the runtime's variables after them.
    assert container["command"] == server_argv(plan, python="python3")
    env = [(e["name"], e["value"]) for e in container["env"]]
    planned = list(plan_env(plan).items())
    assert env[: len(planned)] == planned
    assert dict(env[len(planned):]) == runtime_env(plan, options)
    assert len({k for k, _ in env}) == len(env)
    assert dict(env).get("PT_HPU_ENABLE_LAZY_COLLECTIVES") == ("true" if tp > 1 else None)
    assert "HABANA_VISIBLE_DEVICES" not in dict(env)  # the device plugin sets it to the pod's own cards

    # The cards, requested = limited (extended resources and hugepages must be).
    res = container["resources"]
    assert res["limits"] == res["requests"]
    assert res["limits"]["habana.ai/gaudi"] == str(tp)
    assert container["securityContext"]["capabilities"]["add"] == ["SYS_NICE"]

    # The startup budget covers the warm-up estimate's upper bound with the stated margin, and no
    # more than one period beyond it.
    probe = container["startupProbe"]
    budget = probe["failureThreshold"] * probe["periodSeconds"]
    assert budget >= STARTUP_MARGIN * high
    assert budget < STARTUP_MARGIN * high + probe["periodSeconds"] or probe["failureThreshold"] == 1
    for p in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[p]["httpGet"] == {"path": "/health", "port": "http"}
    (port,) = container["ports"]
    assert port["containerPort"] == plan.serve.port == service["spec"]["ports"][0]["port"]

    # The recipe cache: on a local emptyDir (no network volume), filled from the claim before start.
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    cache_path = dict(env)[RECIPE_CACHE_VAR].split(",")[0].rstrip("/")
    assert mounts["recipe-cache"] == cache_path
    assert set(volumes["recipe-cache"]) == {"name", "emptyDir"}  # node-local, not a network volume
    assert "medium" not in volumes["recipe-cache"]["emptyDir"]  # on disk, not in memory
    (init,) = pod["initContainers"]
    assert {m["name"] for m in init["volumeMounts"]} == {"recipe-cache", "recipe-cache-store"}
    assert volumes["shm"]["emptyDir"]["medium"] == "Memory" and mounts["shm"] == "/dev/shm"
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def chart_argv(values: dict[str, Any]) -> list[str]:
    """The container's command line OPEA's vllm chart renders from these values: ``extraCmd.command``,
    ``extraCmdArgs``, then its own flags (GenAIInfra helm-charts/common/vllm/templates/
    deployment.yaml:88-107@9200b371)."""
    return [
        *values["extraCmd"]["command"], *values["extraCmdArgs"], "--model", values["LLM_MODEL_ID"],
        "--host", "0.0.0.0", "--port", str(values["port"]), "--download-dir", "/data",
    ]


def flag_values(argv: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for i, tok in enumerate(argv):
        if tok.startswith("--"):
            nxt = argv[i + 1] if i + 1 < len(argv) else None
            out[tok] = None if nxt is None or nxt.startswith("--") else nxt
    return out


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    target=st.sampled_from(HPU_TARGETS),
    tp=st.sampled_from([1, 2, 4]),
    lo=st.integers(3136, 2_000_000),
    options=k8s_options.filter(lambda o: "@" not in o.image),
    eager=st.booleans(),
)
def test_helm_values_run_the_same_server(
    target: str, tp: int, lo: int, options: K8sOptions, eager: bool
) -> None:
    serve = ServeSettings(target=target, tensor_parallel_size=tp, enforce_eager=eager)
    try:
        plan, _ = assemble(PlanRequest(builtin_model("qwen2.5-vl-7b"), serve, min_pixels=lo))
    except GaudiVLError:
        assume(False)
        raise
    values = helm_values(plan, options, startup_seconds_high(plan)[0])
    text = format_helm_values(plan, options)
    assert yaml.safe_load(text) == values
    argv = chart_argv(values)
    ours = {f.flag: f.value for f in engine_flags(plan)}
    assert flag_values(argv) == {**ours, "--download-dir": "/data"}
    assert argv[:3] == server_argv(plan, python="python3")[:3]
    assert {k: values["env"][k] for k in plan_env(plan)} == plan_env(plan)
    assert values["resources"]["limits"]["habana.ai/gaudi"] == str(tp)
    assert values.get("PT_HPU_ENABLE_LAZY_COLLECTIVES") == ("true" if tp > 1 else None)
    budget = values["startupProbe"]["failureThreshold"] * values["startupProbe"]["periodSeconds"]
    assert budget >= STARTUP_MARGIN * startup_seconds_high(plan)[0]


def test_helm_values_refuse_a_digest_image() -> None:
    plan = plan_for(HPU_TARGETS[0], 1, 401408, 12845056 - 401408, Strategy.DEFAULT, True, "qwen2.5-vl-7b")
    with pytest.raises(GaudiVLError, match="digest"):
        helm_values(plan, K8sOptions(image="repo/x@sha256:" + "a" * 64), 100.0)


def test_the_validator_refuses_a_broken_manifest() -> None:
    """The schema check can fail: a misspelt field and a wrong type are refused."""
    plan = plan_for(HPU_TARGETS[0], 1, 401408, 12845056 - 401408, Strategy.DEFAULT, True, "qwen2.5-vl-7b")
    docs = build_manifests(plan, K8sOptions(), startup_seconds_high(plan)[0])
    engine_container(docs)["startupprobe"] = engine_container(docs).pop("startupProbe")
    with pytest.raises(kv.ValidationError):
        validate_all(docs)
    docs = build_manifests(plan, K8sOptions(), startup_seconds_high(plan)[0])
    engine_container(docs)["startupProbe"]["failureThreshold"] = "many"
    with pytest.raises(kv.ValidationError):
        validate_all(docs)


@given(high=st.floats(0, 1e6, allow_nan=False), margin=st.floats(1, 3), period=st.integers(1, 60))
def test_startup_budget_is_the_smallest_threshold_that_covers_the_estimate(
    high: float, margin: float, period: int
) -> None:
    b = startup_budget(high, margin, period)
    assert b.seconds >= margin * high
    assert b.failure_threshold == 1 or (b.failure_threshold - 1) * period < margin * high
    assert b.failure_threshold == max(1, math.ceil(margin * high / period))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_startup_budget_refuses_a_meaningless_estimate(bad: float) -> None:
    with pytest.raises(ValueError):
        startup_budget(bad)


# ------------------------------------------------------------------ the command line

def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GAUDI_VL, *args], capture_output=True, text=True, timeout=120)


def test_seed_example_k8s_validates_and_carries_the_plan() -> None:
    result = run("plan", "--min-pixels", "401408", "--format", "k8s")
    assert result.returncode == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    validate_all(docs)
    api_server_rules(docs)
    plan = json.loads(run("plan", "--min-pixels", "401408", "--json").stdout)
    container = engine_container(docs)
    env = {e["name"]: e["value"] for e in container["env"]}
    assert {k: env[k] for k in plan["env"]} == plan["env"]
    assert container["command"][1:] == plan["command"][1:]
    assert container["command"][0] == "python3"
    probe = container["startupProbe"]
    assert f"startupProbe: {probe['failureThreshold']} x {probe['periodSeconds']} s" in result.stdout


def test_k8s_options_reach_the_manifests() -> None:
    result = run(
        "plan", "--min-pixels", "401408", "--tp", "2", "--format", "k8s", "--k8s-name", "qwen-vl",
        "--k8s-namespace", "serving", "--k8s-image", "registry.example/vllm-gaudi:1.22",
        "--k8s-replicas", "3",
        "--k8s-service-type", "NodePort", "--k8s-model-pvc", "models", "--k8s-recipe-cache-pvc", "recipes",
        "--k8s-shm", "8Gi", "--k8s-hugepages", "0", "--k8s-memory", "200Gi",
    )
    assert result.returncode == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    validate_all(docs)
    kinds = by_kind(docs)
    assert set(kinds) == {"Deployment", "Service"}
    assert all(d["metadata"] == {**d["metadata"], "name": "qwen-vl", "namespace": "serving"} for d in docs)
    deployment = kinds["Deployment"]
    assert deployment["spec"]["replicas"] == 3
    assert kinds["Service"]["spec"]["type"] == "NodePort"
    container = engine_container(docs)
    assert container["image"] == "registry.example/vllm-gaudi:1.22"
    assert container["resources"]["limits"] == {"habana.ai/gaudi": "2", "memory": "200Gi"}
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["PT_HPU_ENABLE_LAZY_COLLECTIVES"] == "true"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert env["HF_HOME"].startswith(mounts["models"] + "/")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["shm"]["emptyDir"]["sizeLimit"] == "8Gi"
    assert volumes["recipe-cache-store"]["persistentVolumeClaim"]["claimName"] == "recipes"
    assert volumes["models"]["persistentVolumeClaim"]["claimName"] == "models"
    assert "hugepages" not in volumes


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--k8s-name", "Qwen_VL"], "--k8s-name"),
        (["--k8s-name", "a" * 60], "--k8s-name"),
        (["--k8s-namespace", "-x"], "--k8s-namespace"),
        (["--k8s-image", "bad image"], "--k8s-image"),
        (["--k8s-model-pvc", "UPPER"], "--k8s-model-pvc"),
        (["--k8s-shm", "lots"], "--k8s-shm"),
        (["--k8s-shm", "1.5Gi"], "--k8s-shm"),
        (["--k8s-memory", "0"], "--k8s-memory"),
        (["--k8s-hugepages", "-2Mi"], "--k8s-hugepages"),
        (["--k8s-replicas", "-1"], "--k8s-replicas"),
        (["--k8s-service-type", "Ingress"], "--k8s-service-type"),
        (["--host", "127.0.0.1"], "--host"),
        (["--target", "vllm"], "--target vllm"),
    ],
)
def test_bad_k8s_input_is_one_line_and_exit_2(args: list[str], needle: str) -> None:
    result = run("plan", "--min-pixels", "401408", "--format", "k8s", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr
    assert "Traceback" not in result.stderr
