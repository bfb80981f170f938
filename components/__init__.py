"""Pure factories of page parts: each takes plain values and returns Dash components."""
