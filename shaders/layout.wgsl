// The activation layout every kernel shares (prepended to those that read or write activations):
// NHWC4, pixel-major with the channels in blocks of 4 as one vec4, behind ZERO_VEC4S zero vec4s at
// the buffer's start that out-of-image taps read. Pixels and rows count from the buffer's first row.
fn act_pixel(pixel: u32, channel_blocks: u32) -> u32 {
  return ZERO_VEC4S + pixel * channel_blocks;
}

fn act_at(row: u32, x: u32, width: u32, channel_blocks: u32) -> u32 {
  return act_pixel(row * width + x, channel_blocks);
}

// A batch stacks its items' rows: the buffer row of item `item`'s row `row`, `rows` rows per item.
fn item_row(item: u32, row: u32, rows: u32) -> u32 {
  return item * rows + row;
}
