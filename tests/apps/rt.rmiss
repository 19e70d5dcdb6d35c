#version 460
#extension GL_EXT_ray_tracing : require
// A miss: 0, and a marker that the miss shader ran (tests/apps/vk_ray_pipeline.c).
layout(location = 0) rayPayloadInEXT uvec4 payload;
void main() { payload = uvec4(0u, 0u, 0u, 77u); }
