//! (being written)
pub struct RenderOptions;
pub fn render() {}
