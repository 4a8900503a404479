"""Messages, small dialogs and crash recovery."""
