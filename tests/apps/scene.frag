#version 450
// vk_scene: the texture (NEAREST) times a per-draw tint from push constants.
layout(set = 0, binding = 1) uniform sampler2D tex;
layout(push_constant) uniform Pc { vec4 tint; } pc;
layout(location = 0) in vec2 v_uv;
layout(location = 0) out vec4 out_color;
void main() { out_color = texture(tex, v_uv) * pc.tint; }
