"""Views of cartable.linking (see the app's services module)."""
