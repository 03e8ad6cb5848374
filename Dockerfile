# Build stage: the .NET SDK publishes the `rag` host (Api, CLI and ingest worker in one binary).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Api/Rag.Api.csproj -c Release -o /app

# Runtime stage: CUDA runtime base (for the GPU backend), the .NET runtime, poppler for PDFs.
FROM nvidia/cuda:12.6.3-runtime-ubuntu24.04 AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends aspnetcore-runtime-10.0 poppler-utils curl ca-certificates \
 || (apt-get install -y --no-install-recommends wget ca-certificates poppler-utils curl \
     && wget -q https://dot.net/v1/dotnet-install.sh -O /tmp/dotnet-install.sh \
     && bash /tmp/dotnet-install.sh --channel 10.0 --runtime aspnetcore --install-dir /usr/share/dotnet \
     && ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet) \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 Rag__DataDirectory=/data
EXPOSE 8080
ENTRYPOINT ["dotnet", "/app/rag.dll"]
CMD ["serve"]
