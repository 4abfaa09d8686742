"""The address guard for every URL that did not come from the operator's sources.yaml.

Feed proposals and approved proposals are fetched through :class:`GuardedTransport`. Its
network backend resolves a host name once per connection, refuses the connection when any
address is loopback, private, link-local, multicast, reserved, unspecified or otherwise not
global (IPv4-mapped, 6to4 and Teredo IPv6 forms are unwrapped first; decimal and octal
spellings such as ``2130706433`` or ``0177.1`` are resolved by the system like any name and
then checked), and connects to the address it checked: there is no second lookup that a DNS
rebinding answer could change. TLS server name and ``Host`` stay the name from the URL.
Every redirect hop opens its connection through the same backend, so it is checked again.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

from crawlers.records import FeedError

Resolver = Callable[[str], list[str]]


class AddressRefused(FeedError):
    """A guarded URL names an address we do not fetch; ``code`` names the reason (i18n key)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"refused address: {detail}")
        self.code = code
        self.detail = detail


def resolve_host(host: str) -> list[str]:
    """Every address a host name resolves to (IPv4 and IPv6), in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused("err_feed_unresolvable", f"{host} does not resolve: {exc}") from exc
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]), None)
    return list(seen)


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The address itself plus any IPv4 address carried inside an IPv6 one."""
    found: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            found.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.extend(ip.teredo)
        if ip in ipaddress.IPv6Network("64:ff9b::/96"):  # NAT64 (RFC 6052)
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def is_public_address(address: str) -> bool:
    """Whether an IP address is globally routable (not private, loopback, link-local...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    for candidate in _embedded(ip):
        if (
            candidate.is_private
            or candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
            or not candidate.is_global
        ):
            return False
    return True


class AddressGuard:
    """Resolve a host once and decide whether it may be fetched.

    ``allow_private`` (the ``SUBMIT_ALLOW_PRIVATE_FEEDS`` test setting) keeps the
    resolve-once-and-pin behaviour but lets loopback servers through.
    """

    def __init__(
        self,
        *,
        resolver: Resolver = resolve_host,
        allow_private: bool = False,
        allowed: Callable[[str], bool] = is_public_address,
    ) -> None:
        """``allowed`` decides per address (default: globally routable ones)."""
        self.resolver = resolver
        self.allow_private = allow_private
        self.allowed = allowed

    def addresses(self, host: str) -> list[str]:
        """The checked addresses to connect to for ``host``; raise AddressRefused."""
        name = host.strip("[]")
        try:
            addresses = [str(ipaddress.ip_address(name))]
        except ValueError:
            addresses = self.resolver(name)
        if not addresses:
            raise AddressRefused("err_feed_unresolvable", f"{host} does not resolve")
        if not self.allow_private:
            for address in addresses:
                if not self.allowed(address):
                    where = f"resolves to {address}" if address != name else "is not public"
                    raise AddressRefused("err_feed_private", f"{host} {where}")
        return addresses


class _PinnedBackend(httpcore.NetworkBackend):
    """httpcore's network backend that connects only to addresses the guard checked."""

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve and check ``host`` once; connect to the first checked address that answers."""
        last: Exception | None = None
        for address in self._guard.addresses(host):
            try:
                return self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        """Unix sockets are never a guarded destination."""
        raise AddressRefused("err_feed_private", f"unix socket {path}")

    def sleep(self, seconds: float) -> None:
        """Sleep as the default backend does (used between retries)."""
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over the pinned backend: each connection (each redirect hop) is checked."""

    def __init__(self, guard: AddressGuard | None = None, **kwargs: Any) -> None:
        """``kwargs`` are httpx.HTTPTransport's; the default guard refuses non-public hosts."""
        super().__init__(**kwargs)
        guard = guard or AddressGuard()
        # HTTPTransport takes no network backend of its own: rebuild its pool around ours,
        # with the same TLS context and limits it chose.
        pool = self._pool
        self._pool = httpcore.ConnectionPool(
            ssl_context=pool._ssl_context,
            max_connections=pool._max_connections,
            max_keepalive_connections=pool._max_keepalive_connections,
            keepalive_expiry=pool._keepalive_expiry,
            http1=pool._http1,
            http2=pool._http2,
            retries=pool._retries,
            network_backend=_PinnedBackend(guard),
        )
        pool.close()
