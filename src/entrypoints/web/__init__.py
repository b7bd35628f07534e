"""The web app and its pages (SPEC §12): server-rendered Jinja pages over the same use cases as the API."""
