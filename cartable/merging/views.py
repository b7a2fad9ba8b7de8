"""Views of cartable.merging (see the app's services module)."""
