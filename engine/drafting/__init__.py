"""Template drafts: a reply per category, with the sender's name, a reference and the office's signature."""
