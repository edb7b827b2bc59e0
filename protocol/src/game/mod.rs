//! Game wire (in progress).
