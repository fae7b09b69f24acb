"""Built-in ChatwootAI plugins, each a package registered on the `chatwootai.plugins`
entry-point group, using only the public hooks any third-party plugin can use."""
