"""Every vendor call a connector makes: the API gate, its rate limiters and connect-failure naming.

Below the sync engine and the runtime (which wraps each connector in an :class:`~.gate.ApiGate`),
above the connector contract: :mod:`.gate` (retries, renewal on a 401, call accounting, plan-mode
write refusal), :mod:`.window` (the rolling-window limiter), :mod:`.priority` (background calls
give their limiter turns to calls waiting), :mod:`.unreachable` (a call that could not connect,
and the host it named).
"""
