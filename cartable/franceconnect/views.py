"""Views of cartable.franceconnect (see the app's services module)."""
