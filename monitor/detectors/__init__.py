"""Face detector implementations; build them by name with ``monitor.detect.make_detector``."""
