using System.Text;
using System.Text.Json.Nodes;

namespace MmServe.GrpcTests.Fuzz;

/// <summary>
/// A small seeded mutator: byte-level (flip, insert, delete, duplicate, truncate, splice in JSON/UTF-8 trouble) and
/// JSON-level (drop, retype or replace a value, deepen a value). One seed gives one sequence of mutations, so a failure
/// found with MMSERVE_FUZZ_SEED=n reproduces.
/// </summary>
internal sealed class RequestMutator(int seed)
{
    private static readonly byte[][] Trouble =
    [
        [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], "\\ud800"u8.ToArray(), "\\u0000"u8.ToArray(),
        "\""u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), ","u8.ToArray(), ":"u8.ToArray(),
        "null"u8.ToArray(), "1e999"u8.ToArray(), "-1"u8.ToArray(), "NaN"u8.ToArray(), "\\"u8.ToArray(), [0x00],
    ];

    private readonly Random _random = new(seed);

    public int Next(int max) => _random.Next(max);

    /// <summary>One to three byte-level edits.</summary>
    public byte[] MutateBytes(byte[] input)
    {
        var bytes = new List<byte>(input);
        for (int edits = 1 + _random.Next(3); edits > 0; edits--)
        {
            int at = bytes.Count == 0 ? 0 : _random.Next(bytes.Count);
            switch (_random.Next(6))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1:
                    bytes.InsertRange(at, Trouble[_random.Next(Trouble.Length)]);
                    break;
                case 2 when bytes.Count > 0:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + _random.Next(16)));
                    break;
                case 3 when bytes.Count > 0:
                    var chunk = bytes.GetRange(at, Math.Min(bytes.Count - at, 1 + _random.Next(64)));
                    bytes.InsertRange(_random.Next(bytes.Count), chunk);
                    break;
                case 4:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    bytes.Insert(at, (byte)_random.Next(256));
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>One to three JSON-level edits of a copy of <paramref name="body"/>, serialized.</summary>
    public byte[] MutateJson(JsonObject body)
    {
        var copy = body.DeepClone();
        for (int edits = 1 + _random.Next(3); edits > 0; edits--)
        {
            var nodes = Walk(copy).ToList();
            var target = nodes[_random.Next(nodes.Count)];
            if (target.Parent is JsonObject parent)
            {
                var name = target.GetPropertyName();
                if (_random.Next(4) == 0)
                {
                    parent.Remove(name);
                }
                else
                {
                    parent[name] = RandomValue();
                }
            }
            else if (target.Parent is JsonArray array)
            {
                int index = target.GetElementIndex();
                if (_random.Next(4) == 0)
                {
                    array.RemoveAt(index);
                }
                else
                {
                    array[index] = RandomValue();
                }
            }
            else if (copy is JsonObject root)
            {
                root[RandomString()] = RandomValue();
            }
        }

        return Encoding.UTF8.GetBytes(copy.ToJsonString());
    }

    private static IEnumerable<JsonNode> Walk(JsonNode node)
    {
        yield return node;
        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children)
        {
            if (child is not null)
            {
                foreach (var n in Walk(child))
                {
                    yield return n;
                }
            }
        }
    }

    private JsonNode? RandomValue() => _random.Next(12) switch
    {
        0 => null,
        1 => JsonValue.Create(_random.Next(2) == 0),
        2 => JsonValue.Create(_random.Next(-3, 5)),
        3 => JsonValue.Create(new[] { int.MaxValue, int.MinValue, 0, 100_000, 257 }[_random.Next(5)]),
        4 => JsonValue.Create(new[] { -1.5, 1e300, 0.5, 2.0, double.Epsilon }[_random.Next(5)]),
        5 => JsonValue.Create(RandomString()),
        6 => new JsonArray(),
        7 => new JsonObject(),
        8 => new JsonArray(JsonValue.Create(RandomString()), JsonValue.Create(3)),
        9 => Deep(1 + _random.Next(80)),
        10 => JsonValue.Create(new string('z', 1 + _random.Next(5000))),
        _ => JsonValue.Create(new[] { "user", "system", "assistant", "tool", "text", "image_url", "input_audio", "data:image/png;base64,AAAA", "http://127.0.0.1/x.png", "wav", "mp3", "mmserve-tiny", "default", "json", "" }[_random.Next(15)]),
    };

    private JsonNode Deep(int depth)
    {
        JsonNode node = JsonValue.Create(1);
        for (int i = 0; i < depth; i++)
        {
            node = _random.Next(2) == 0 ? new JsonArray(node) : new JsonObject { ["a"] = node };
        }

        return node;
    }

    private string RandomString()
    {
        string[] pieces = ["a", "é", "😀", "<|im_end|>", "\u0000", "\ud800", " ", "\n", "data:", "base64,", "%", "{", "\\"];
        var sb = new StringBuilder();
        for (int n = _random.Next(6); n > 0; n--)
        {
            sb.Append(pieces[_random.Next(pieces.Length)]);
        }

        return sb.ToString();
    }
}
