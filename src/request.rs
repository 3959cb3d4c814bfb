//! URL and header building.
