"""The read side of the house: what leaves the store for a page, a feed, a report or an export, filtered for
whoever asks.

- ``audience``: who is asking (the site's privacy rules, the school's time zone, the locale and the cameras
  this user may see), loaded once per request, export or poll.
- ``privacy``: the site's privacy rules and the one rule for a lesson's emotions (``shows_emotions``).
- ``lesson``: the per-lesson filters every consumer applies: the live frame (poller and worker publish alike).
- ``health``: each camera's worker for ``status``, ``/api/health`` and the admin page (one wording, one rule).
"""
