using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using MmServe.Serving.Errors;

namespace MmServe.Api.Grpc.Binding;

/// <summary>
/// Wraps a method's request marshaller so bytes the generated parser refuses become INVALID_ARGUMENT with the API's
/// error trailers (invalid_utf8 naming the field, or invalid_protobuf). Grpc.AspNetCore parses the request before any
/// interceptor runs and answers a parser exception with UNKNOWN plus an error-level log; an RpcException thrown by
/// the deserializer is answered with its own status instead.
/// </summary>
internal static class GuardedRequestMarshaller
{
    public static Marshaller<TRequest> Wrap<TRequest>(Marshaller<TRequest> inner)
    {
        var descriptor = DescriptorOf<TRequest>();
        return new Marshaller<TRequest>(inner.ContextualSerializer, context =>
        {
            try
            {
                return inner.ContextualDeserializer(context);
            }
            catch (Exception e) when (e is InvalidProtocolBufferException or DecoderFallbackException)
            {
                throw GrpcErrors.ToException(Refusal(descriptor, context));
            }
        });
    }

    private static ServingError Refusal(MessageDescriptor? descriptor, DeserializationContext context)
    {
        var field = descriptor is null ? null : ProtoUtf8Locator.Find(descriptor, context.PayloadAsNewBuffer());
        return field is null
            ? ServingError.Invalid("The request message could not be parsed: it is not a valid protobuf encoding of the method's request type.", null, "invalid_protobuf")
            : ServingError.Invalid($"'{field}' is not valid UTF-8; protobuf string fields must hold UTF-8 text.", field, "invalid_utf8");
    }

    private static MessageDescriptor? DescriptorOf<TRequest>() =>
        typeof(IMessage).IsAssignableFrom(typeof(TRequest)) && Activator.CreateInstance(typeof(TRequest)) is IMessage message
            ? message.Descriptor
            : null;
}
