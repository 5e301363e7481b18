"""Feature modules, one each, loaded by AdvisorBot.setup_hook (see app.EXTENSIONS)."""
