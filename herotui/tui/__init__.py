"""The Textual application: islands as tabbed panes (imported only by 'hero' / 'hero tui')."""
