"""A fake of Kamailio's KSR for unit tests of pure routing functions: records what a route did."""

from __future__ import annotations

from typing import Any


class _Module:
    def __init__(self, ksr: FakeKSR, name: str, results: dict[str, Any]) -> None:
        self._ksr, self._name, self._results = ksr, name, results

    def __getattr__(self, func: str) -> Any:
        def call(*args: Any) -> Any:
            self._ksr.calls.append((f"{self._name}.{func}", args))
            result = self._results.get(func, DEFAULTS.get(f"{self._name}.{func}", 1))
            return result(*args) if callable(result) else result

        return call


# Kamailio's answer where success (1) is not it: an empty htable reads as None (nobody banned).
DEFAULTS: dict[str, Any] = {"htable.sht_get": None}


class _PV:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def sets(self, name: str, value: str) -> None:
        self.values[name] = value

    def unset(self, name: str) -> None:
        self.values.pop(name, None)


class FakeKSR:
    """`results` maps "module.function" to its return value (default 1, Kamailio's success), or to
    a function of the call's arguments giving it."""

    def __init__(self, pv: dict[str, Any] | None = None, results: dict[str, Any] | None = None) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.pv = _PV({"$rm": "INVITE", "$rU": "1000", "$si": "127.0.0.1", "$sp": 5062,
                       "$ci": "call-1", "$ft": "from-tag", "$rs": 200, **(pv or {})})
        by_module: dict[str, dict[str, Any]] = {}
        for key, value in (results or {}).items():
            module, func = key.split(".")
            by_module.setdefault(module, {})[func] = value
        self._modules = by_module

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Module(self, name, self._modules.get(name, {}))

    def setdsturi(self, uri: str) -> int:
        self.calls.append(("setdsturi", (uri,)))
        return 1

    def setuser(self, user: str) -> int:
        self.calls.append(("setuser", (user,)))
        return 1

    def seturi(self, uri: str) -> int:
        self.calls.append(("seturi", (uri,)))
        return 1

    def called(self, name: str) -> list[tuple[Any, ...]]:
        return [args for func, args in self.calls if func == name]

    def replies(self) -> list[int]:
        return [args[0] for func, args in self.calls if func == "sl.sl_send_reply"]
