"""The web app (``gutstride serve``): the services of gutstride behind accounts, sharing and a JSON API."""
