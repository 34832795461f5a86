"""``classroom-monitor serve``: a whole school from one config (supervised workers, timetables, failover)."""
