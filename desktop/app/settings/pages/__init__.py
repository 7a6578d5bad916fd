"""The core settings pages: office, policies, schedule, privacy, and the connections status."""
