namespace MmServe.Serving;

/// <summary>A real 16x16 solid red PNG (79 bytes), used by the warm-up and the Swagger examples.</summary>
public static class SampleImage
{
    public const string RedSquarePngBase64 =
        "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mP4z8BAEmIY1TCqYfhqAACQ+f8B8u7oVwAAAABJRU5ErkJggg==";

    public const string RedSquareDataUrl = "data:image/png;base64," + RedSquarePngBase64;
}
