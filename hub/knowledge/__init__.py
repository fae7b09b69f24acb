"""Knowledge: a domain's own documents as searchable chunks, with no model and no network.

`text` normalises Portuguese, `chunking` cuts Markdown into passages, `lexical`
ranks them with BM25, and `base` keeps them in Qdrant. The offline model
(`hub.offline.answers`) picks the lines that answer a question from them, the
`knowledge_search` tool returns the passages, and the router reuses the tokeniser.
"""
