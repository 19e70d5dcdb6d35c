#version 460
#extension GL_EXT_ray_tracing : require
// A hit: 1 + the instance's custom index, the primitive id and the barycentrics x 1000
// (tests/apps/vk_ray_pipeline.c).
layout(location = 0) rayPayloadInEXT uvec4 payload;
hitAttributeEXT vec2 bary;
void main()
{
   payload = uvec4(1u + uint(gl_InstanceCustomIndexEXT), uint(gl_PrimitiveID),
                   uint(bary.x * 1000.0 + 0.5), uint(bary.y * 1000.0 + 0.5));
}
