"""tune: find better settings for the daemon by replaying a recorded workload against
the real components (a client of the other plugins, never a copy of their code)."""
