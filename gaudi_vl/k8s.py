"""A Kubernetes deployment for a plan: Deployment, Service and the recipe-cache claim.

Pure: plain dicts (``kubectl``'s JSON/YAML objects) built from a ``Plan``, its options
(``K8sOptions``, each declared once like ``gaudi_vl.settings``) and the warm-up time's upper bound
in seconds, which the caller passes (``gaudi_vl.exporters`` gets it from the warm-up estimate).
Nothing here computes an engine value: the environment is ``gaudi_vl.envvars.plan_env``, the
command ``gaudi_vl.command.server_argv``. ``gaudi_vl.yamlout`` writes the result.

What a Gaudi serving pod needs, and where each convention comes from:

- ``habana.ai/gaudi`` = the plan's tensor-parallel cards, requests = limits (the Habana device
  plugin's resource; Habana docs "Running Workloads on Kubernetes"; OPEA GenAIInfra
  ``helm-charts/common/vllm/gaudi-values.yaml:12-14@9200b371``).
- ``hugepages-2Mi``: 9800Mi per card, the figure of Habana's own vLLM-with-recipe-cache example
  (Gaudi-tutorials ``k8s/vllm-8b-cache.yaml:82,87@9046730``, branch ``special``, which
  vllm-gaudi's ``docs/configuration/warm-up/managing_warm-up.md:34@091bbadda10b`` points to).
- ``/dev/shm`` a memory ``emptyDir``: 1Gi at one card (OPEA ``common/vllm/values.yaml:27``), 16Gi
  with tensor parallelism (OPEA ``agentqna/gaudi-values.yaml:21@9200b371``, TP 4): vLLM's
  multi-process workers exchange tensors through it.
- ``SYS_NICE`` (Habana docs' Gaudi job example; Gaudi-tutorials compose files) for the runtime's
  thread priorities.
- ``OMPI_MCA_btl_vader_single_copy_mechanism=none`` (vllm-fork ``README_GAUDI.md:27@17a7946f``;
  OPEA ``common/vllm/gaudi-values.yaml:10``) and, from two cards on,
  ``PT_HPU_ENABLE_LAZY_COLLECTIVES=true`` (vllm-gaudi ``.cd/server/vllm_autocalc_rules.py:23-24``
  and ``docs/configuration/env_variables.md:81@091bbadda10b``: "must be set to true for tensor
  parallel inference with HPU Graphs").
- NOT ``HABANA_VISIBLE_DEVICES=all``, which docker examples set: under Kubernetes the Habana device
  plugin sets ``HABANA_VISIBLE_DEVICES`` to the cards it allocated
  (habanalabs-k8s-device-plugin ``server.go:265@6b77f8c8``), and a pod's own ``all`` would hand
  the container every card of the node, including those of other pods.
- The recipe cache (``PT_HPU_RECIPE_CACHE_CONFIG``) on local disk, never on NFS, which "does not
  support file locking"; "in Kubernetes ... it should be copied to local disk before use"
  (``managing_warm-up.md:8-32@091bbadda10b``): a local ``emptyDir``, filled by an initContainer
  from a PersistentVolumeClaim and written back by a ``preStop`` hook.
- Probes on ``/health`` (vLLM's OpenAI server route; OPEA ``common/vllm/values.yaml:81-93``), and a
  startupProbe whose budget is the warm-up estimate's upper bound times ``STARTUP_MARGIN``:
  Kubernetes kills a pod whose startupProbe fails ``failureThreshold`` times in a row (OPEA
  GenAIComps issue 1557: vLLM on Gaudi killed mid warm-up; OPEA raised the threshold to 360 x 5 s,
  ``gaudi-values.yaml:16-18``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from typing import Any

from gaudi_vl.command import engine_flags, server_argv
from gaudi_vl.engines import PROFILES
from gaudi_vl.envvars import plan_env
from gaudi_vl.errors import GaudiVLError, printable
from gaudi_vl.memory import weights_bytes
from gaudi_vl.plan import Plan
from gaudi_vl.settings import check_value, setting, spec_of

MI = 2**20
GI = 2**30

HUGEPAGES_PER_CARD = 9800 * MI
"""Habana's vLLM Kubernetes example: ``hugepages-2Mi: 9800Mi`` for one card (module docstring)."""
SHM_ONE_CARD = 1 * GI
"""OPEA's vllm chart ``shmSize`` default for one card."""
SHM_TENSOR_PARALLEL = 16 * GI
"""OPEA's ``shmSize`` for its tensor-parallel (TP 4) vLLM on Gaudi."""
HOST_MEMORY_PER_CARD = 8 * GI
"""Host memory of one engine worker process beside the weights (Python, torch, the Habana
runtime, host-side graph recipes): gaudi-vl's own allowance, not a published figure; override
with ``--k8s-memory`` after watching ``kubectl top pod``."""
RECIPE_CACHE_MB = 8192
"""``RECIPE_CACHE_SIZE_MB`` of vllm-gaudi's recipe-cache example (managing_warm-up.md:46)."""

STARTUP_MARGIN = 1.5
"""The startupProbe allows 1.5 x the warm-up estimate's upper bound: the estimate is a model of
published timings, and compile time grows when the host's CPUs are shared."""
STARTUP_PERIOD_S = 10
"""startupProbe period: a failed probe is cheap (connection refused until the server listens)."""

RECIPE_CACHE_DIR = "/recipe-cache"
RECIPE_STORE_DIR = "/recipe-cache-store"
MODEL_DIR = "/data"
HF_HOME = f"{MODEL_DIR}/huggingface"
"""With a model claim: huggingface_hub's cache (``HF_HOME``) on it, so weights download once."""

RESTORE_CACHE = f"cp -a {RECIPE_STORE_DIR}/. {RECIPE_CACHE_DIR}/"
"""The initContainer's copy, claim to local disk (run with the main image: it has sh and cp, and
an air-gapped cluster pulls no second image)."""
SAVE_CACHE = f"cp -a -u {RECIPE_CACHE_DIR}/. {RECIPE_STORE_DIR}/"
"""The preStop copy back, newer files only (recipes are content-named: pods sharing a claim write
the same bytes for the same graph)."""

RUNTIME_ENV_ONE_CARD = {"OMPI_MCA_btl_vader_single_copy_mechanism": "none"}
RUNTIME_ENV_TP = {"PT_HPU_ENABLE_LAZY_COLLECTIVES": "true"}
RECIPE_CACHE_VAR = "PT_HPU_RECIPE_CACHE_CONFIG"

_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
"""A Service name (and so the app name): RFC 1035 label, as the API server validates it."""
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,1023}$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_NAME = 63 - len("-recipe-cache")
"""The app name leaves room for the claim name derived from it (a label of at most 63)."""
MAX_MIB = 2**30
"""Sizes up to 1 PiB (in MiB): far above any node."""


def _size_mi(text: str) -> int:
    """A Kubernetes-style size (``16Gi``, ``9800Mi``, ``512M``) or a byte count, in whole MiB
    (rounded up: a size is a floor the pod needs)."""
    m = re.fullmatch(r"\s*(\d{1,13})\s*(Ki|Mi|Gi|Ti|K|M|G|T|)\s*", text)
    if not m:
        raise GaudiVLError(f"{text!r} is not a size", "write it as 16Gi, 9800Mi, 512M or a byte count")
    factor = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
              "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}[m.group(2)]
    return math.ceil(int(m.group(1)) * factor / MI)


def _positive_size_mi(text: str) -> int:
    mi = _size_mi(text)
    if mi == 0:
        raise GaudiVLError(f"{text!r} is zero", "give a positive size, e.g. 16Gi")
    return mi


@dataclass(frozen=True)
class K8sOptions:
    """The deployment's options, each declared once (flag, type, bounds, help), as ``ServeSettings``."""

    name: str = setting(
        "gaudi-vl", flag="--k8s-name", kind=str, metavar="NAME", group="kubernetes",
        help="name of the Deployment, Service and labels (a DNS-1035 label: a-z, 0-9, '-')",
    )
    namespace: str | None = setting(
        None, flag="--k8s-namespace", kind=str, nullable=True, metavar="NS", group="kubernetes",
        help="namespace of every object (default: none written, kubectl's current namespace)",
    )
    image: str = setting(
        "opea/vllm-gaudi:latest", flag="--k8s-image", kind=str, metavar="IMAGE", group="kubernetes",
        help="container image with the engine (default: OPEA's vLLM Gaudi image); with --align it must "
             "also hold gaudi-vl (pip install gaudi-vl), see README 'Kubernetes'",
    )
    replicas: int = setting(
        1, flag="--k8s-replicas", kind=int, minimum=0, maximum=1000, metavar="N", group="kubernetes",
        help="pods of the Deployment, each with the plan's cards",
    )
    service_type: str = setting(
        "ClusterIP", flag="--k8s-service-type", kind=str, choices=("ClusterIP", "NodePort", "LoadBalancer"),
        group="kubernetes", help="how the Service is exposed",
    )
    model_pvc: str | None = setting(
        None, flag="--k8s-model-pvc", kind=str, nullable=True, metavar="CLAIM", group="kubernetes",
        help=f"PersistentVolumeClaim mounted at {MODEL_DIR} with HF_HOME={HF_HOME}, so weights download "
             "once (default: none, each pod downloads them)",
    )
    recipe_cache_pvc: str | None = setting(
        None, flag="--k8s-recipe-cache-pvc", kind=str, nullable=True, metavar="CLAIM", group="kubernetes",
        help="existing PersistentVolumeClaim that keeps the compiled-graph recipe cache between pods "
             "(default: a claim NAME-recipe-cache, written into the output)",
    )
    recipe_cache_mb: int = setting(
        RECIPE_CACHE_MB, flag="--k8s-recipe-cache-mb", kind=int, minimum=1, maximum=2**22, metavar="MB",
        group="kubernetes",
        help="recipe cache size cap (PT_HPU_RECIPE_CACHE_CONFIG); its volumes get twice this",
    )
    shm_mib: int | None = setting(
        None, flag="--k8s-shm", kind=int, nullable=True, minimum=1, maximum=MAX_MIB,
        parse=_positive_size_mi, metavar="SIZE", group="kubernetes",
        help="/dev/shm size, e.g. 16Gi (default: 1Gi for one card, 16Gi with tensor parallelism, as OPEA's "
             "charts)",
    )
    hugepages_mib: int | None = setting(
        None, flag="--k8s-hugepages", kind=int, nullable=True, minimum=0, maximum=MAX_MIB, parse=_size_mi,
        metavar="SIZE", group="kubernetes",
        help="hugepages-2Mi for the pod, e.g. 9800Mi, 0 for none (default: 9800Mi per card, Habana's vLLM "
             "example)",
    )
    memory_mib: int | None = setting(
        None, flag="--k8s-memory", kind=int, nullable=True, minimum=1, maximum=MAX_MIB,
        parse=_positive_size_mi, metavar="SIZE", group="kubernetes",
        help="host memory request and limit, e.g. 200Gi (default: estimated: the weights twice, /dev/shm "
             "and 8Gi per card)",
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            check_value(spec_of(f), getattr(self, f.name))
        _match(_DNS1035, self.name, "--k8s-name", "a DNS-1035 label",
               "a-z, 0-9 and '-', starting with a letter, e.g. qwen-vl")
        if len(self.name) > MAX_NAME:
            raise GaudiVLError(f"setting --k8s-name: {self.name!r} is too long for its derived names",
                               f"use at most {MAX_NAME} characters")
        if self.namespace is not None:
            _match(_DNS1123_LABEL, self.namespace, "--k8s-namespace", "a DNS-1123 label",
                   "a-z, 0-9 and '-', e.g. serving")
        _match(_IMAGE, self.image, "--k8s-image", "an image reference",
               "e.g. registry.example/vllm-gaudi:1.22")
        claims = {"--k8s-model-pvc": self.model_pvc, "--k8s-recipe-cache-pvc": self.recipe_cache_pvc}
        for flag, claim in claims.items():
            if claim is not None:
                _match(_DNS1123_SUBDOMAIN, claim, flag, "a PersistentVolumeClaim name",
                       "a-z, 0-9, '-' and '.'")

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


K8S_FIELDS = tuple(fields(K8sOptions))


def _match(pattern: re.Pattern[str], value: str, flag: str, what: str, hint: str) -> None:
    if not pattern.fullmatch(value):
        raise GaudiVLError(f"setting {flag}: {value!r} is not {what}", f"use {hint}")


@dataclass(frozen=True)
class StartupBudget:
    """How long Kubernetes waits for the first ``/health`` before it kills the container."""

    period_s: int
    failure_threshold: int
    warmup_seconds_high: float
    margin: float

    @property
    def seconds(self) -> int:
        return self.period_s * self.failure_threshold


def startup_budget(warmup_seconds_high: float, margin: float = STARTUP_MARGIN,
                   period_s: int = STARTUP_PERIOD_S) -> StartupBudget:
    """``failureThreshold x periodSeconds >= margin x the warm-up estimate's upper bound``.

    The startupProbe starts with the container (after the initContainers), so it must cover model
    loading, the engine's profiling run and the whole warm-up; the estimate's upper bound is taken
    to cover all of it (``gaudi_vl.exporters.startup_seconds_high``).
    """
    if not math.isfinite(warmup_seconds_high) or warmup_seconds_high < 0:
        raise ValueError(f"warm-up upper bound must be a finite number >= 0, got {warmup_seconds_high!r}")
    threshold = max(1, math.ceil(margin * warmup_seconds_high / period_s))
    return StartupBudget(period_s, threshold, warmup_seconds_high, margin)


def _quantity_mi(mi: int) -> str:
    return f"{mi // 1024}Gi" if mi % 1024 == 0 and mi else f"{mi}Mi"


@dataclass(frozen=True)
class PodSizes:
    """The pod's resource sizes in MiB, each from its option or its cited default."""

    shm_mi: int
    hugepages_mi: int
    memory_mi: int


def pod_sizes(plan: Plan, options: K8sOptions) -> PodSizes:
    """Sizes for the plan's card count; ``memory`` holds ``/dev/shm`` too, since a memory-medium
    emptyDir is charged to the container's memory limit (Kubernetes "Volumes: emptyDir")."""
    tp = plan.serve.tensor_parallel_size
    shm = options.shm_mib or (SHM_ONE_CARD if tp == 1 else SHM_TENSOR_PARALLEL) // MI
    huge = options.hugepages_mib if options.hugepages_mib is not None else tp * HUGEPAGES_PER_CARD // MI
    huge += huge % 2  # whole 2 MiB pages
    if options.memory_mib:
        memory = options.memory_mib
    else:
        # The checkpoint's pages while it is read, and the host copy of the tensors before they move
        # to the cards: the weights twice (all cards together), plus /dev/shm and each worker process.
        weights = weights_bytes(plan.model, 1)
        memory = math.ceil((2 * weights + tp * HOST_MEMORY_PER_CARD) / GI) * 1024 + shm
    return PodSizes(shm, huge, memory)


def runtime_env(plan: Plan, options: K8sOptions) -> dict[str, str]:
    """The Habana runtime's variables the charts set (module docstring), the recipe cache and,
    with a model claim, ``HF_HOME``: what the container needs beside the plan's own environment."""
    env = dict(RUNTIME_ENV_ONE_CARD)
    if plan.serve.tensor_parallel_size > 1:
        env.update(RUNTIME_ENV_TP)
    # <path>,<delete>,<size MB>: delete=False keeps the recipes the initContainer copied in
    # (managing_warm-up.md:13-20@091bbadda10b); new recipes are added to the same folder.
    env[RECIPE_CACHE_VAR] = f"{RECIPE_CACHE_DIR}/,False,{options.recipe_cache_mb}"
    if options.model_pvc:
        env["HF_HOME"] = HF_HOME
    return env


def container_env(plan: Plan, options: K8sOptions) -> list[dict[str, str]]:
    """The plan's environment exactly (``plan_env``), then the runtime's; a name in both is a bug."""
    planned = plan_env(plan)
    extra = runtime_env(plan, options)
    both = sorted(set(planned) & set(extra))
    if both:
        raise AssertionError(f"the plan and the runtime both set {both}")
    return [{"name": k, "value": v} for k, v in {**planned, **extra}.items()]


def recipe_claim_name(options: K8sOptions) -> str:
    return options.recipe_cache_pvc or f"{options.name}-recipe-cache"


def check_deployable(plan: Plan) -> None:
    """One-line errors for plans no Gaudi pod can serve."""
    if not plan.engine.hpu:
        raise GaudiVLError(
            f"--format k8s and helm-values write a Gaudi deployment, but --target {plan.engine.name} runs on "
            "no Gaudi card",
            "plan for an HPU engine: --target " + " or ".join(p.name for p in PROFILES if p.hpu),
        )
    if plan.serve.host in _LOOPBACK:
        raise GaudiVLError(
            f"setting --host: {plan.serve.host!r} binds the loopback interface, which the kubelet's probes "
            "and the Service cannot reach",
            "use --host 0.0.0.0 (the default) for --format k8s",
        )


def _http_probe(port: str, period: int, failures: int, timeout: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": "/health", "port": port},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    }


def build_manifests(plan: Plan, options: K8sOptions, warmup_seconds_high: float) -> list[dict[str, Any]]:
    """The objects ``kubectl apply -f`` takes for ``plan``: the recipe-cache claim (unless an existing
    one is named), the Deployment and its Service."""
    check_deployable(plan)
    tp = plan.serve.tensor_parallel_size
    sizes = pod_sizes(plan, options)
    budget = startup_budget(warmup_seconds_high)
    labels = {"app.kubernetes.io/name": options.name, "app.kubernetes.io/part-of": "gaudi-vl"}
    selector = {"app.kubernetes.io/name": options.name}

    def meta(name: str) -> dict[str, Any]:
        m: dict[str, Any] = {"name": name, "labels": dict(labels)}
        if options.namespace:
            m["namespace"] = options.namespace
        return m

    resources: dict[str, str] = {"habana.ai/gaudi": str(tp), "memory": _quantity_mi(sizes.memory_mi)}
    if sizes.hugepages_mi:
        resources["hugepages-2Mi"] = _quantity_mi(sizes.hugepages_mi)
    # Twice the bridge's cap: it prunes the local folder to RECIPE_CACHE_SIZE_MB, but the claim is
    # the union of what every pod saved, and a local emptyDir over its sizeLimit gets the pod evicted.
    cache_size = _quantity_mi(2 * options.recipe_cache_mb)
    mounts = [
        {"name": "shm", "mountPath": "/dev/shm"},
        {"name": "recipe-cache", "mountPath": RECIPE_CACHE_DIR},
        {"name": "recipe-cache-store", "mountPath": RECIPE_STORE_DIR},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": _quantity_mi(sizes.shm_mi)}},
        # Node-local disk (the kubelet's root or ephemeral storage), never network storage.
        {"name": "recipe-cache", "emptyDir": {"sizeLimit": cache_size}},
        {"name": "recipe-cache-store", "persistentVolumeClaim": {"claimName": recipe_claim_name(options)}},
    ]
    if sizes.hugepages_mi:
        mounts.append({"name": "hugepages", "mountPath": "/hugepages-2Mi"})
        volumes.append({"name": "hugepages", "emptyDir": {"medium": "HugePages-2Mi"}})
    if options.model_pvc:
        mounts.append({"name": "models", "mountPath": MODEL_DIR})
        volumes.append({"name": "models", "persistentVolumeClaim": {"claimName": options.model_pvc}})

    container = {
        "name": "engine",
        "image": options.image,
        # python3: the Ubuntu-based Gaudi images have no bare ``python``.
        "command": server_argv(plan, python="python3"),
        "env": container_env(plan, options),
        "ports": [{"name": "http", "containerPort": plan.serve.port, "protocol": "TCP"}],
        "resources": {"limits": dict(resources), "requests": dict(resources)},
        "securityContext": {"capabilities": {"add": ["SYS_NICE"]}},
        "volumeMounts": mounts,
        "startupProbe": _http_probe("http", budget.period_s, budget.failure_threshold, 5),
        "readinessProbe": _http_probe("http", 10, 3, 5),
        # A restart costs a whole warm-up: declare the engine dead only after two minutes without
        # an answer (OPEA's earlier vllm chart: 24 x 5 s, common/vllm/values.yaml@027923c2).
        "livenessProbe": _http_probe("http", 10, 12, 10),
        "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", SAVE_CACHE]}}},
    }
    init = {
        "name": "restore-recipe-cache",
        "image": options.image,
        "command": ["sh", "-c", RESTORE_CACHE],
        "volumeMounts": [
            {"name": "recipe-cache", "mountPath": RECIPE_CACHE_DIR},
            {"name": "recipe-cache-store", "mountPath": RECIPE_STORE_DIR, "readOnly": True},
        ],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(options.name),
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": dict(selector)},
            # Replace pods one at a time without a surge pod: a surge pod would wait for cards the
            # old pod still holds.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    # Time for preStop to write the recipe cache back before SIGKILL.
                    "terminationGracePeriodSeconds": 300,
                    "initContainers": [init],
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(options.name),
        "spec": {
            "type": options.service_type,
            "selector": dict(selector),
            "ports": [{"name": "http", "port": plan.serve.port, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    docs: list[dict[str, Any]] = []
    if options.recipe_cache_pvc is None:
        docs.append({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": meta(recipe_claim_name(options)),
            "spec": {
                # Several pods share it from two replicas on (the cluster needs an RWX class then).
                "accessModes": ["ReadWriteOnce" if options.replicas <= 1 else "ReadWriteMany"],
                "resources": {"requests": {"storage": cache_size}},
            },
        })
    return [*docs, deployment, service]


OPEA_CHART_FLAGS = ("--model", "--host", "--port")
"""Flags OPEA's vllm chart writes itself after ``extraCmdArgs``: ``--model LLM_MODEL_ID --host
0.0.0.0 --port port --download-dir /data`` (GenAIInfra helm-charts/common/vllm/templates/
deployment.yaml:94-107@9200b371)."""
OPEA_CHART_TMP = "/tmp"
"""The chart's ``tmp`` emptyDir (deployment.yaml:113-114, 149-150): node-local disk that outlives a
container restart, so the recipe cache goes there (it has no hook to restore one from a claim)."""


def _image_parts(image: str) -> tuple[str, str]:
    """``repository``, ``tag`` as OPEA's chart joins them (``repository:tag``, deployment.yaml:84)."""
    if "@" in image:
        raise GaudiVLError(
            f"setting --k8s-image: OPEA's vllm chart writes the image as repository:tag, not a digest "
            f"({image!r})",
            "pass --k8s-image as repository:tag for --format helm-values",
        )
    repo, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:
        return image, "latest"
    return repo, tag


def helm_values(plan: Plan, options: K8sOptions, warmup_seconds_high: float) -> dict[str, Any]:
    """Values for OPEA GenAIInfra's ``helm-charts/common/vllm`` chart (keys of its values.yaml and
    templates @9200b371) that run the same server: the plan's flags as ``extraCmdArgs`` (less those
    the chart writes itself), its environment under ``env`` (configmap.yaml:45-48), the runtime's
    variables under the chart's own keys, the cards, ``SYS_NICE`` and the startup budget.

    The chart cannot restore a recipe cache from a claim before start; the cache lives in its ``/tmp``
    emptyDir, which survives container restarts (a liveness kill) but not a new pod.
    """
    check_deployable(plan)
    repo, tag = _image_parts(options.image)
    tp = plan.serve.tensor_parallel_size
    sizes = pod_sizes(plan, options)
    budget = startup_budget(warmup_seconds_high)
    argv = server_argv(plan, python="python3")
    args: list[str] = []
    for f in engine_flags(plan):
        if f.flag not in OPEA_CHART_FLAGS:
            args += [f.flag] if f.value is None else [f.flag, f.value]
    env = dict(plan_env(plan))
    env[RECIPE_CACHE_VAR] = f"{OPEA_CHART_TMP}/recipe-cache/,False,{options.recipe_cache_mb}"
    resources: dict[str, str] = {"habana.ai/gaudi": str(tp), "memory": _quantity_mi(sizes.memory_mi)}
    if sizes.hugepages_mi:
        resources["hugepages-2Mi"] = _quantity_mi(sizes.hugepages_mi)
    values: dict[str, Any] = {
        "replicaCount": options.replicas,
        "accelDevice": "gaudi",
        "image": {"repository": repo, "tag": tag},
        "LLM_MODEL_ID": plan.model_ref,
        "port": plan.serve.port,
        "shmSize": _quantity_mi(sizes.shm_mi),
        "service": {"type": options.service_type},
        "extraCmd": {"command": argv[:3]},
        "extraCmdArgs": args,
        **RUNTIME_ENV_ONE_CARD,
        **(RUNTIME_ENV_TP if tp > 1 else {}),
        "env": env,
        "resources": {"limits": dict(resources), "requests": dict(resources)},
        "securityContext": {"capabilities": {"add": ["SYS_NICE"]}},
        "startupProbe": {"periodSeconds": budget.period_s, "failureThreshold": budget.failure_threshold},
    }
    if options.model_pvc:
        values["global"] = {"modelUsePVC": options.model_pvc}
    return values


def startup_comment(warmup_seconds_high: float, source: str) -> str:
    """One header line: the startup budget and where it came from."""
    budget = startup_budget(warmup_seconds_high)
    return (f"startupProbe: {budget.failure_threshold} x {budget.period_s} s = {budget.seconds} s "
            f"= {budget.margin:g} x start-up upper bound {warmup_seconds_high:.0f} s ({source})")


def manifest_comments(plan: Plan, options: K8sOptions, warmup_seconds_high: float, source: str) -> list[str]:
    """The header an operator reads first: how to apply, and where the startup budget came from."""
    out = [
        (f"gaudi-vl: {printable(plan.model_ref)} on {plan.engine.name}, "
         f"{plan.serve.tensor_parallel_size} Gaudi card(s) per pod"),
        "apply: kubectl apply -f this-file.yaml ; watch: kubectl get pods -w",
        startup_comment(warmup_seconds_high, source),
        (f"recipe cache: restored from claim {recipe_claim_name(options)} before start, saved back by "
         f"preStop; by hand: kubectl exec deploy/{options.name} -- {SAVE_CACHE}"),
    ]
    if plan.serve.align and plan.family_warmup is None:
        out.append("GAUDI_VL_ALIGN=1: the image must hold gaudi-vl (its vLLM plugin) or plan --no-align")
    return out
