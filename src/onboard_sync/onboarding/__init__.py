"""The onboarding model: state, facts and the pure state machine that evaluates them."""
