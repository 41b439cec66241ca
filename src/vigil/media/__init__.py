"""Known-media matching: PDQ and MD5 hashes of attached images against hash banks."""
