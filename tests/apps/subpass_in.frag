#version 450
// vk_sync_objects: reads the first subpass's color through an input attachment, swizzled.
layout(input_attachment_index = 0, set = 0, binding = 0) uniform subpassInput prev;
layout(location = 0) out vec4 out_color;
void main() { vec4 c = subpassLoad(prev); out_color = vec4(c.g, c.r, c.b, 1.0); }
