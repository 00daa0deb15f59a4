"""How masters come in: resumable (tus) uploads from the admin, with their HTTP views and URLs, and bulk ingest
of a folder or storage prefix from a manifest. Both end in ``services.media_asset_create``."""
