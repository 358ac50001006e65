/**
 * The AWS Bedrock adapter: OpenAI chat requests become Converse / ConverseStream calls signed with SigV4,
 * embeddings become Titan Text Embeddings v2 InvokeModel calls, and the answers (JSON, or the binary AWS
 * event stream) become OpenAI's {@code chat.completion}, chunk stream and embeddings list.
 *
 * <p>Start with {@link dev.detour.provider.bedrock.BedrockAdapter}; {@code ConverseRequests} translates requests,
 * {@code ConverseTranslator} answers, {@code EventStreamDecoder} the binary framing, {@code BedrockErrors}
 * classifies errors.
 */
package dev.detour.provider.bedrock;
