//! Blocking adapter for herald-core (work in progress).
