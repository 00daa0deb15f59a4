"""The engines behind search: the embedded index (the database) and the Elasticsearch/OpenSearch cluster.

`choice` says which one answers; `results` is what every engine is asked and answers with; `analysis`, `bodies`
and `snippets` are the text analysis, the cluster's request bodies and the embedded index's highlighting. Only
search's own modules import these (search.selectors and search.services are the app's front doors).
"""
