"""Knowledge: a domain's own documents as searchable chunks, with no model and no network.

`text` normalises Portuguese, `chunking` cuts Markdown into passages, and
`lexical` ranks them with BM25. The offline model answers from them, the
`knowledge_search` tool returns them, and the router reuses the tokeniser.
"""
