"""The one place that reads the environment: strict, read once, errors that name the variable."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from service.fetch import parse_networks

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    """A setting is wrong; the message names the variable and what is expected."""


@dataclass(frozen=True, slots=True)
class Settings:
    # Networks an operator allows user-supplied calendar URLs to reach (intranet servers).
    allow_networks: tuple[Network, ...] = ()


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (os.environ unless given)."""
    env = os.environ if environ is None else environ
    try:
        networks = tuple(parse_networks(env.get("TOUCHPOINT_ALLOW_NETWORKS", "")))
    except ValueError as exc:
        raise ConfigError(f"TOUCHPOINT_ALLOW_NETWORKS: {exc}") from None
    return Settings(allow_networks=networks)
