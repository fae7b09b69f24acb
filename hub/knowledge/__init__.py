"""Knowledge: a domain's own documents as searchable chunks, with no model and no network.

`text` normalises Portuguese, `chunking` cuts Markdown into passages, `lexical`
ranks them with BM25, and `answers` (with `places`) picks the lines that answer a
question. The offline model answers with them, the `knowledge_search` tool
returns the passages, and the router reuses the tokeniser.
"""
