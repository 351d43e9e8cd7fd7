"""Model settings: which model a context may use, where it is served, and how long to wait.

Nothing here imports litellm (or any network library): reading the settings is cheap, so a
front-end can ask "may this context use a model?" on every call and pay for litellm only when
the answer is yes (see :mod:`herotui.planner.llm`).

Where the settings come from, first found wins:

1. environment: ``HERO_MODEL``, ``HERO_MODEL_API_BASE``, ``HERO_MODEL_API_KEY_ENV``,
   ``HERO_MODEL_TIMEOUT``;
2. the context's profile (``context.toml``): ``model = "ollama_chat/llama3.2"``, or a table
   ``[model]`` with ``name``, ``api_base``, ``api_key_env``, ``timeout``;
3. the global file ``<config dir>/config.toml`` (``$HERO_HOME/config/config.toml``, else
   ``$XDG_CONFIG_HOME/hero/config.toml``), table ``[model]`` with the same keys;
4. nothing: no model, and the planner, summaries and answers work without one.

The name and the timeout are each taken from the first level that has them. The address and
the key variable belong to the model: they come from the environment, else from the level
that named the model (so a profile's ``model = "ollama_chat/llama3.2"`` is not sent to the
address the global file gives for another model).

A model name of ``off`` (or ``none``, or ``false`` in TOML) at any level switches the model
off there (``model = "off"`` in a context's profile keeps that context model-free even with a
global model configured; ``HERO_MODEL=off`` switches it off everywhere).

The **policy** is the context's alone (profile key ``policy``, else ``[model] policy`` of the
global file, else ``any``); no environment variable can loosen it. ``local-only`` admits only
a model served on this machine: an Ollama model (``ollama/...``, ``ollama_chat/...``) or an
OpenAI-compatible server (``openai/...``, ``hosted_vllm/...``, ``lm_studio/...``,
``llamafile/...``), with an ``api_base`` on ``localhost``, ``127.0.0.0/8`` or ``::1``. Anything
else under ``local-only`` is refused with a clear error, before any request is made.

API keys are never stored in a profile or the config file: they name the environment
variable that holds the key (``api_key_env = "OPENAI_API_KEY"``), and the key itself is read
at call time and never logged. A profile that holds ``api_key`` is refused.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from herotui import settings as hero_settings
from herotui import paths
from herotui.errors import HeroError, ModelError, ModelPolicyError

DEFAULT_TIMEOUT = 30.0
OLLAMA_DEFAULT_BASE = "http://127.0.0.1:11434"
OFF = frozenset({"off", "none", "no", "false", "0", "disabled"})
POLICIES = ("any", "local-only")
# Providers (litellm's prefix before "/") that send every request to ``api_base``: the only
# ones a local-only context may use, since for them a loopback api_base really means local.
LOCAL_PROVIDERS = frozenset({"ollama", "ollama_chat", "openai", "hosted_vllm", "lm_studio", "llamafile"})
OLLAMA_PROVIDERS = frozenset({"ollama", "ollama_chat"})
KEY_HINT = "put the key in an environment variable and name it: api_key_env = \"OPENAI_API_KEY\""


class ModelSettings(BaseModel):
    """The model one context may use, resolved from environment, profile and config file."""

    model_config = ConfigDict(frozen=True)

    context: str
    """The context these settings are for."""

    name: str
    """litellm model id: ``ollama_chat/llama3.2``, ``openai/qwen2.5-7b-instruct`` (with an
    OpenAI-compatible ``api_base``), or a cloud model such as ``gpt-4o-mini``."""

    api_base: str | None = None
    """Where the model is served: ``http://127.0.0.1:11434`` for Ollama (its default),
    ``http://127.0.0.1:8080/v1`` for an OpenAI-compatible server; ``None``: the provider's own."""

    api_key_env: str | None = None
    """The name of the environment variable that holds the API key (never the key itself)."""

    timeout: float = DEFAULT_TIMEOUT
    """Seconds to wait for the endpoint (connect and answer) before giving up."""

    policy: Literal["any", "local-only"] = "any"
    """The context's policy: ``local-only`` admits only a model served on this machine."""

    sources: dict[str, str] = Field(default_factory=dict)
    """Where each field came from (``env``, ``profile``, ``config``): for messages and doctor."""

    @property
    def provider(self) -> str | None:
        """litellm's provider prefix (``ollama_chat`` in ``ollama_chat/llama3.2``), if any."""
        return self.name.split("/", 1)[0].lower() if "/" in self.name else None

    @property
    def api_key(self) -> str | None:
        """The key, read from the environment at call time (not a field: never dumped)."""
        if not self.api_key_env:
            return None
        return os.environ.get(self.api_key_env) or None

    @property
    def is_local(self) -> bool:
        """True when every request goes to this machine (see the module docstring)."""
        return self.provider in LOCAL_PROVIDERS and self.api_base is not None and is_loopback_url(self.api_base)

    def describe(self) -> str:
        """``ollama_chat/llama3.2 at http://127.0.0.1:11434`` (never the key)."""
        return self.name + (f" at {self.api_base}" if self.api_base else "")


def is_loopback_url(url: str) -> bool:
    """True for ``http://localhost:...``, ``http://127.x.y.z:...`` and ``http://[::1]:...``."""
    try:
        host = urlsplit(url if "://" in url else "http://" + url).hostname
    except ValueError:
        return False
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def config_file() -> Path:
    """The global config file: ``<config dir>/config.toml``."""
    return paths.config_dir() / "config.toml"


def _read_global() -> dict[str, Any]:
    path = config_file()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"cannot read {path}: {exc}", hint="fix the file (TOML), or delete it") from None
    model = data.get("model", {})
    if not isinstance(model, dict):
        raise ModelError(f"{path}: [model] must be a table", hint="e.g. [model]\\nname = \"ollama_chat/llama3.2\"")
    if "api_key" in model:
        raise ModelError(f"{path} holds an API key: keys are never stored in files", hint=KEY_HINT)
    return model


def _profile_model(profile: dict[str, Any], where: str) -> dict[str, Any]:
    if "api_key" in profile:
        raise ModelError(f"{where} holds an API key: keys are never stored in a profile", hint=KEY_HINT)
    value = profile.get("model")
    if value is None:
        return {}
    if value is False:
        return {"name": "off"}
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict):
        if "api_key" in value:
            raise ModelError(f"{where} holds an API key: keys are never stored in a profile", hint=KEY_HINT)
        return dict(value)
    raise ModelError(f"{where}: 'model' must be a model name or a table", hint='e.g. model = "ollama_chat/llama3.2"')


def _env() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, var in (("name", "HERO_MODEL"), ("api_base", "HERO_MODEL_API_BASE"),
                     ("api_key_env", "HERO_MODEL_API_KEY_ENV"), ("timeout", "HERO_MODEL_TIMEOUT")):
        value = (hero_settings.get().raw(var) or "").strip()  # the text: the checks below word the errors
        if value:
            out[key] = value
    return out


def _timeout(value: Any, source: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= 3600:
        where = "HERO_MODEL_TIMEOUT" if source == "env" else f"the model timeout in the {source}"
        raise ModelError(f"invalid {where}: {value!r}", hint="give seconds, a number above 0 (default 30)")
    return seconds


def _is_off(name: Any) -> bool:
    return name is False or (isinstance(name, str) and name.strip().lower() in OFF)


def model_for(ctx: Any) -> ModelSettings | None:
    """The model settings ``ctx`` may use, or ``None`` when no model is configured for it.

    Raises :class:`ModelPolicyError` when the context's policy forbids the configured model,
    and :class:`ModelError` for settings that cannot work (a bad timeout, a key in a file).
    Reads two small TOML files at most; imports nothing heavy.
    """
    name_ctx = getattr(ctx, "name", str(ctx))
    profile = getattr(ctx, "profile", None) or {}
    from_profile = _profile_model(profile, f"the profile of context '{name_ctx}'")
    from_config = _read_global()
    layers = [("env", _env()), ("profile", from_profile), ("config", from_config)]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def take(key: str, source: str, layer: dict) -> None:
        if key not in values and layer.get(key) not in (None, ""):
            values[key], sources[key] = layer[key], source

    for source, layer in layers:  # the name, and the timeout: the first layer that has one
        take("name", source, layer)
        take("timeout", source, layer)
    # Where and with which key: the environment, else the layer that named the model (an
    # address configured for another model would be wrong for this one).
    for key in ("api_base", "api_key_env"):
        take(key, "env", layers[0][1])
        for source, layer in layers[1:]:
            if sources.get("name") == source:
                take(key, source, layer)
    name = values.get("name")
    if name is None or _is_off(name):
        return None
    if not isinstance(name, str):
        raise ModelError(f"invalid model name {name!r}", hint='e.g. model = "ollama_chat/llama3.2"')
    policy, sources["policy"] = profile.get("policy", from_profile.get("policy")), "profile"
    if policy is None:
        policy, sources["policy"] = from_config.get("policy"), "config"
    if policy is None:
        policy, sources["policy"] = "any", "default"
    if policy not in POLICIES:
        raise ModelError(f"context '{name_ctx}': unknown model policy {policy!r}",
                         hint="use policy = \"local-only\" (only models on this machine) or \"any\"")
    timeout = _timeout(values["timeout"], sources["timeout"]) if "timeout" in values else DEFAULT_TIMEOUT
    api_base = values.get("api_base")
    provider = name.split("/", 1)[0].lower() if "/" in name else None
    if api_base is None and provider in OLLAMA_PROVIDERS:
        # Resolve Ollama's address here, so the policy check and the request agree.
        api_base = os.environ.get("OLLAMA_API_BASE") or OLLAMA_DEFAULT_BASE
        sources["api_base"] = "ollama default"
    settings = ModelSettings(context=name_ctx, name=name.strip(), api_base=api_base,
                             api_key_env=values.get("api_key_env"), timeout=timeout, policy=policy,
                             sources=sources)
    if policy == "local-only" and not settings.is_local:
        raise ModelPolicyError(_refusal(settings), hint=(
            "use a local model (e.g. HERO_MODEL=ollama_chat/llama3.2, or openai/NAME with "
            "HERO_MODEL_API_BASE=http://127.0.0.1:8080/v1), or set policy = \"any\" in the "
            "context's context.toml if its data may go to that service"))
    return settings


def _refusal(s: ModelSettings) -> str:
    why = (f"its address {s.api_base} is not this machine" if s.api_base and not is_loopback_url(s.api_base)
           else "it has no local api_base" if s.provider in LOCAL_PROVIDERS
           else f"'{s.name}' is not served by a local provider (ollama/, ollama_chat/, openai/ with a local api_base, ...)")
    return f"context '{s.context}' is local-only and model {s.name} would send its data off this machine: {why}"


def allowed(ctx: Any) -> bool:
    """True when ``ctx`` has a usable model configured (policy errors count as no)."""
    try:
        return model_for(ctx) is not None
    except HeroError:
        return False
