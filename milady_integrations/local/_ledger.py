"""Credits per key: reserve before generating, then bill only what succeeded (as the service does)."""

from __future__ import annotations

import threading
from decimal import Decimal


def _dec(amount: float) -> Decimal:
    # Decimal from the float's shortest repr: 0.02 * 3 stays 0.06, not 0.060000000000000005.
    return Decimal(repr(float(amount)))


class Ledger:
    """Thread-safe balances. Reservations stop two concurrent requests overspending."""

    def __init__(self, initial: float) -> None:
        self._initial = _dec(initial)
        self._balances: dict[str, Decimal] = {}
        self._lock = threading.Lock()

    def balance(self, key: str) -> float:
        with self._lock:
            return float(self._balances.setdefault(key, self._initial))

    def set(self, key: str, amount: float) -> None:
        with self._lock:
            self._balances[key] = _dec(amount)

    def reserve(self, key: str, amount: float) -> bool:
        """Take ``amount`` now; False (nothing taken) when the balance is short."""
        need = _dec(amount)
        with self._lock:
            have = self._balances.setdefault(key, self._initial)
            if have < need:
                return False
            self._balances[key] = have - need
            return True

    def refund(self, key: str, amount: float) -> None:
        with self._lock:
            self._balances[key] = self._balances.setdefault(key, self._initial) + _dec(amount)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {key: float(value) for key, value in self._balances.items()}


def cost(price: float, images: int) -> float:
    """``price * images`` without binary-float noise (0.06, not 0.06000000000000001)."""
    return float(_dec(price) * images)
