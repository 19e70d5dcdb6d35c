#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer B { uint v[]; } b;
layout(push_constant) uniform P { uint k; } p;
void main() { uint i = gl_GlobalInvocationID.x; b.v[i] = b.v[i] * 3u + p.k; }
