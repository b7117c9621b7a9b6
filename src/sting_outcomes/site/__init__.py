"""The report site: notebooks executed in parallel and cached by content hash, rendered
to offline HTML pages with an index and a data explorer."""
