#version 450
// vk_scene: positions in pixel units, mapped to clip space by the uniform-buffer matrix.
layout(set = 0, binding = 0) uniform Xform { mat4 m; } xf;
layout(location = 0) in vec3 pos;
layout(location = 1) in vec2 uv;
layout(location = 0) out vec2 v_uv;
void main() {
   gl_Position = xf.m * vec4(pos, 1.0);
   v_uv = uv;
}
