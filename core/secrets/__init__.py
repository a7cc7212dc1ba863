"""Secret detection: token formats, private keys, credentials in URLs, and keyword assignments."""
