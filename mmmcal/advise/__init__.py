"""Which test next: candidate experiments valued under a fit's posterior, before they run."""
