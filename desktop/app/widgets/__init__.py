"""Small reusable widgets: category badges, the safe email view, tables, banners, the undo bar."""
