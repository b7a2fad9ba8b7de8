"""Views of cartable.registration (see the app's services module)."""
