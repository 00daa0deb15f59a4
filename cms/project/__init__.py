"""The project's wiring: URLs, the JSON API root, task backends and service probes. It may import any app;
no app imports it."""
