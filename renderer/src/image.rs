//! (being written)
pub struct Image;
